"""Leak-detection training exercises: a hidden truth, a trainee bundle, and scored answers.

:func:`create_exercise` writes an exercise (the trainees' network, logger readings and inlet
flows, a brief) and, apart from it, its answer key (:mod:`nrwkit.exercise.key`).
"""

from .create import DIFFICULTY, Exercise, create_exercise
from .key import AnswerKey, KeyLeak, read_answer_key

__all__ = ["DIFFICULTY", "AnswerKey", "Exercise", "KeyLeak", "create_exercise", "read_answer_key"]
