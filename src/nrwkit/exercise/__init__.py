"""Leak-detection training exercises: a hidden truth, a trainee bundle, and scored answers.

:func:`create_exercise` writes an exercise (the trainees' network, logger readings and inlet
flows, a brief) and, apart from it, its answer key (:mod:`nrwkit.exercise.key`).
"""

from .batch import BatchRow, create_exercises
from .create import DIFFICULTY, Exercise, create_exercise
from .key import AnswerKey, KeyLeak, read_answer_key

__all__ = ["DIFFICULTY", "AnswerKey", "BatchRow", "Exercise", "KeyLeak", "create_exercise",
           "create_exercises", "read_answer_key"]
