"""Lessons: a side sheet that walks a learner through the notes on the live network."""
