"""Chapter 7, Modern Convolutional Neural Networks, for TensorFlow: the residual block (7.6).

The book's TensorFlow block used `padding='same'`, which for stride 2 pads only the bottom
and right, so its output differs from the MXNet/PyTorch block (which pads 1 on every side)
even with identical weights. Here the padding is explicit and symmetric, and batch
normalisation uses MXNet/PyTorch's epsilon 1e-5 and momentum (Keras: 0.9), so the three
frameworks compute the same function.
"""

import tensorflow as tf
from tensorflow import keras

from ..common import checks

__all__ = ["Residual"]


class Residual(keras.Model):
    """ReLU(BN(conv3x3(ReLU(BN(conv3x3(X, strides))))) + shortcut), NHWC.

    The shortcut is X, or a 1x1 convolution of X with `strides` when `use_1x1conv` (needed
    when the channels or the spatial size change). Both 3x3 convolutions pad 1 on every side.
    Layers are defined in forward order: conv1, bn1, conv2, bn2, conv3.
    """

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        checks.positive_ints("Residual", num_channels=num_channels, strides=strides)
        super().__init__()
        self.pad = keras.layers.ZeroPadding2D(1)
        self.conv1 = keras.layers.Conv2D(num_channels, 3, strides=strides)
        self.bn1 = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
        self.conv2 = keras.layers.Conv2D(num_channels, 3)
        self.bn2 = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
        self.conv3 = (keras.layers.Conv2D(num_channels, 1, strides=strides)
                      if use_1x1conv else None)

    def call(self, X, training=None):
        Y = tf.nn.relu(self.bn1(self.conv1(self.pad(X)), training=training))
        Y = self.bn2(self.conv2(self.pad(Y)), training=training)
        if self.conv3 is not None:
            X = self.conv3(X)
        checks.residual_shortcut(Y.shape, X.shape)
        return tf.nn.relu(Y + X)
