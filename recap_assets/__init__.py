"""Recap ("For You") heavy- and light-ranker training data and models: the second feedtrain code location."""
