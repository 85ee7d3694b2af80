"""Chapter 7, Modern Convolutional Neural Networks, for MXNet: the residual block (7.6)."""

from mxnet import npx
from mxnet.gluon import nn

from ..common import checks

__all__ = ["Residual"]


class Residual(nn.Block):
    """ReLU(BN(conv3x3(ReLU(BN(conv3x3(X, strides))))) + shortcut), NCHW.

    The shortcut is X, or a 1x1 convolution of X with `strides` when `use_1x1conv` (needed
    when the channels or the spatial size change). Both 3x3 convolutions pad 1 on every side;
    input channels are inferred on the first call. Layers are defined in forward order:
    conv1, bn1, conv2, bn2, conv3.
    """

    def __init__(self, num_channels, use_1x1conv=False, strides=1, **kwargs):
        checks.positive_ints("Residual", num_channels=num_channels, strides=strides)
        super().__init__(**kwargs)
        self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1, strides=strides)
        self.bn1 = nn.BatchNorm()
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm()
        self.conv3 = (nn.Conv2D(num_channels, kernel_size=1, strides=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = npx.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        checks.residual_shortcut(Y.shape, X.shape)
        return npx.relu(Y + X)
