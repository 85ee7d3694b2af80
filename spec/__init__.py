"""The framework-neutral spec of the saved d2l API, one module per book chapter.

`ENTRIES` lists every entry in book order; `symbol(entry)` is the saved name it checks
(entries such as "load_array (shuffle)" add a second check of the same symbol).
"""

from . import (
    aliases,
    attention_mechanisms,
    computational_performance,
    computer_vision,
    convolutional_neural_networks,
    deep_learning_computation,
    generative_adversarial_networks,
    linear_networks,
    modern_cnns,
    modern_rnns,
    multilayer_perceptrons,
    natural_language_processing_pretraining,
    optimization_algorithms,
    preliminaries,
    recommender_systems,
    recurrent_neural_networks,
)

ENTRIES = (
    preliminaries.ENTRIES
    + linear_networks.ENTRIES
    + multilayer_perceptrons.ENTRIES
    + deep_learning_computation.ENTRIES
    + convolutional_neural_networks.ENTRIES
    + modern_cnns.ENTRIES
    + recurrent_neural_networks.ENTRIES
    + modern_rnns.ENTRIES
    + attention_mechanisms.ENTRIES
    + optimization_algorithms.ENTRIES
    + computational_performance.ENTRIES
    + computer_vision.ENTRIES
    + natural_language_processing_pretraining.ENTRIES
    + recommender_systems.ENTRIES
    + generative_adversarial_networks.ENTRIES
    + aliases.ENTRIES
)


def symbol(entry):
    """The saved symbol an entry checks (its name without a parenthesised variant)."""
    return entry.name.split(" (")[0]


def symbols():
    """Every saved symbol the spec covers, in book order, without repeats."""
    return list(dict.fromkeys(symbol(e) for e in ENTRIES))
