"""Dive into Deep Learning (release 0.16.6): the book's saved code, in three frameworks.

Import the backend of your choice; the package itself imports no framework::

    from d2l import mxnet as d2l
    from d2l import torch as d2l
    from d2l import tensorflow as d2l
"""

__version__ = "0.16.6"
