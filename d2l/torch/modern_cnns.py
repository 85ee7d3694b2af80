"""Chapter 7, Modern Convolutional Neural Networks, for PyTorch: the residual block (7.6)."""

import torch.nn.functional as F
from torch import nn

from ..common import checks

__all__ = ["Residual"]


class Residual(nn.Module):
    """ReLU(BN(conv3x3(ReLU(BN(conv3x3(X, strides))))) + shortcut), NCHW.

    The shortcut is X, or a 1x1 convolution of X with `strides` when `use_1x1conv` (needed
    when the channels or the spatial size change). Both 3x3 convolutions pad 1 on every side.
    Layers are defined in forward order: conv1, bn1, conv2, bn2, conv3.
    """

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        checks.positive_ints("Residual", input_channels=input_channels,
                             num_channels=num_channels, strides=strides)
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv3 = (nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        checks.residual_shortcut(Y.shape, X.shape)
        return F.relu(Y + X)
