"""Readable generated run names ("brave-otter-417"), as MLflow gives unnamed runs."""
from __future__ import annotations

import random

_ADJECTIVES = (
    "amber autumn bold brave bright calm clever crisp dapper eager fancy gentle glad golden "
    "happy humble jolly keen lively lucky merry mighty nimble noble polite proud quick quiet "
    "rapid shiny silent sleek smooth snappy sunny swift tidy vivid warm wise witty zesty"
).split()
_NOUNS = (
    "badger bat bear beaver bee bison crane crow deer dolphin eagle elk falcon ferret finch "
    "fox gecko goat hare hawk heron ibis jay koala lark lemur lion lynx mole moth newt otter "
    "owl panda puffin quail raven robin seal shark snail sparrow swan tiger toad trout wolf yak"
).split()


def generate_run_name(rng: random.Random | None = None) -> str:
    r = rng or random
    return f"{r.choice(_ADJECTIVES)}-{r.choice(_NOUNS)}-{r.randrange(100, 1000)}"
