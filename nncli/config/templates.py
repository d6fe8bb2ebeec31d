"""Starter configs for `nncli init`: commented, and valid as written (their data is a built-in
generator, so they run anywhere). tests/ checks that each passes `nncli validate`."""

from __future__ import annotations

_HEADER = """\
# {title}
# Check it:  nncli validate {path}      Train it:  nncli train {path}
# Every key, its default and allowed values: docs/config.md, or `nncli config {path}`.
# Editor completion: `nncli schema > nncli.schema.json`, then make the first line of this file
#   # yaml-language-server: $schema=nncli.schema.json
"""

XOR = """\
name: {name}
seed: 0                        # one seed drives initialization, shuffling, splits and dropout
data:
  generator:                   # a built-in dataset; for your own CSV use  path: FILE  and  target: COLUMN
    name: xor                  # points around the four corners of the unit square, label x1 xor x2
    n_samples: 200
    noise: 0.1
  validation_split: 0.2        # fraction held out (seeded, stratified) to watch for overfitting
model:
  layers:                      # input width comes from the data; each layer computes a = f(XW + b)
    - {{units: 8, activation: tanh}}
    - {{units: 1, activation: sigmoid}}   # one sigmoid unit: the probability of class 1
training:
  epochs: 200
  batch_size: 32               # an integer, or full for plain gradient descent
  loss: binary_crossentropy    # two classes with one sigmoid output
  optimizer: {{name: adam, learning_rate: 0.05}}
"""

REGRESSION = """\
name: {name}
seed: 0                        # one seed drives initialization, shuffling, splits and dropout
data:
  generator:                   # a built-in dataset; for your own CSV use  path: FILE  and  target: COLUMN
    name: sine                 # y = sin(x) + noise, x uniform in [-π, π]
    n_samples: 500
    noise: 0.05
  validation_split: 0.2        # fraction held out (seeded) to watch for overfitting
  scaling: standardize         # standardize | minmax | none, fitted on the training rows only
model:
  layers:                      # input width comes from the data; each layer computes a = f(XW + b)
    - {{units: 32, activation: tanh}}
    - {{units: 32, activation: tanh}}
    - {{units: 1, activation: linear}}    # one linear unit per target column
training:
  epochs: 300
  batch_size: 32
  loss: mse                    # mean squared error; mae or huber are less sensitive to outliers
  optimizer: {{name: adam, learning_rate: 0.01}}
  metrics: [r2, mae]
"""

CLASSIFICATION = """\
name: {name}
seed: 0                        # one seed drives initialization, shuffling, splits and dropout
data:
  generator:                   # a built-in dataset; for your own CSV use  path: FILE  and  target: COLUMN
    name: spirals              # three interleaved spiral arms, one class per arm
    classes: 3
    n_samples: 600
    noise: 0.05
  validation_split: 0.2        # fraction held out (seeded, stratified) to watch for overfitting
model:
  layers:                      # input width comes from the data; each layer computes a = f(XW + b)
    - {{units: 64, activation: relu}}
    - {{units: 64, activation: relu, dropout: 0.1}}   # dropout only on hidden layers
    - {{units: 3, activation: softmax}}   # one softmax unit per class
training:
  epochs: 300
  batch_size: 32
  loss: cross_entropy          # softmax + cross-entropy over the classes
  optimizer: {{name: adam, learning_rate: 0.01}}
  early_stopping: {{monitor: val_loss, patience: 30}}
"""

TEMPLATES = {
    "xor": ("XOR: the four points no single neuron can separate; one hidden layer learns them.", XOR),
    "regression": ("Regression: learn y = sin(x) from noisy samples with a small tanh network.", REGRESSION),
    "classification": ("Classification: three spiral arms, softmax over the classes.", CLASSIFICATION),
}


def render(template: str, path: str, name: str) -> str:
    title, body = TEMPLATES[template]
    return _HEADER.format(title=title, path=path) + body.format(name=name)
