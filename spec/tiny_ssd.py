"""The book's tiny SSD (13.7), written book-style per framework, for the detection end-to-end
tests: the book does not save its model, so it lives here, built from canonical parameters.

Layers in canonical order (the book's attribute order blk_0, cls_0, bbox_0, ..., blk_4,
cls_4, bbox_4): blk_0 is the base network (three down-sampling blocks of widths 16, 32, 64),
blk_1 to blk_3 down-sampling blocks of 128 channels, blk_4 a global max pool; a down-sampling
block is (conv 3x3 pad 1, batch norm, ReLU) twice and a 2x2 max pool; the class and box
predictors are 3x3 convolutions (pad 1) with num_anchors (num_classes + 1) and num_anchors 4
outputs. `widths` shrinks the network for quick tests. Batch norm uses epsilon 1e-5 in all
three and runs in training mode (batch statistics). Images are NCHW in the spec.

Banana-style data: `banana_images` draws a yellow elliptic 'banana' of random size and place
on a textured background, with its label (class 0, x1, y1, x2, y2) in units of the image.
"""

import numpy as np

SIZES = [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88, 0.961]]
RATIOS = [[1, 2, 0.5]] * 5
NUM_ANCHORS = len(SIZES[0]) + len(RATIOS[0]) - 1
BOOK_WIDTHS = (16, 32, 64, 128)


def banana_images(n, size=64, seed=0):
    """n float32 NCHW images (pixels 0-255) and labels (n, 1, 5)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.zeros((n, 1, 5), np.float32)
    for i in range(n):
        background = rng.uniform(20, 200, 3)[:, None, None] + rng.normal(0, 25, (3, size, size))
        w, h = rng.uniform(0.15, 0.45, 2) * size
        x1, y1 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        inside = (((xs - x1 - w / 2) / (w / 2)) ** 2 + ((ys - y1 - h / 2) / (h / 2)) ** 2) <= 1
        banana = np.array([235, 210, 40], np.float32)[:, None, None] + rng.normal(
            0, 10, (3, size, size))
        images[i] = np.clip(np.where(inside, banana, background), 0, 255)
        labels[i, 0] = [0, x1 / size, y1 / size, (x1 + w) / size, (y1 + h) / size]
    return images, labels


def init_params(num_classes=1, widths=BOOK_WIDTHS, seed=0):
    """Canonical parameters (PyTorch's default uniform ±1/√fan_in for convolutions, batch
    norm gamma 1, beta 0, running mean 0, variance 1)."""
    rng = np.random.default_rng(seed)
    params, k = {}, 0

    def conv(cin, cout):
        nonlocal k
        bound = 1 / np.sqrt(cin * 9)
        params[f"{k}.weight"] = rng.uniform(-bound, bound, (cout, cin, 3, 3)).astype(np.float32)
        params[f"{k}.bias"] = rng.uniform(-bound, bound, cout).astype(np.float32)
        k += 1

    def bn(c):
        nonlocal k
        params.update({f"{k}.gamma": np.ones(c, np.float32), f"{k}.beta": np.zeros(c, np.float32),
                       f"{k}.running_mean": np.zeros(c, np.float32),
                       f"{k}.running_var": np.ones(c, np.float32)})
        k += 1

    for convs, cout in _blocks(widths):
        for a, b in convs:
            conv(a, b)
            bn(b)
        conv(cout, NUM_ANCHORS * (num_classes + 1))
        conv(cout, NUM_ANCHORS * 4)
    return params


def _blocks(widths):
    """Per stage i: the (in, out) channels of its convolutions and its output channels."""
    base = [(3, widths[0])] + list(zip(widths[:2], widths[1:3]))
    convs = [[pair for a, b in base for pair in ((a, b), (b, b))],
             [(widths[2], widths[3]), (widths[3], widths[3])],
             [(widths[3], widths[3])] * 2, [(widths[3], widths[3])] * 2, []]
    outs = [widths[2], widths[3], widths[3], widths[3], widths[3]]
    return list(zip(convs, outs))


# --- the book's model, per framework ------------------------------------------------------

def build(b, num_classes=1, widths=BOOK_WIDTHS, params=None):
    """The tiny SSD on the backend's device, with canonical `params` loaded if given."""
    net = {"torch": _torch_ssd, "mxnet": _mxnet_ssd, "tensorflow": _keras_ssd}[b.name](
        b, num_classes, widths)
    if b.name == "mxnet":
        net.initialize(ctx=b.device)
    elif b.name == "torch":
        net.to(b.device)
    else:
        import tensorflow as tf

        with tf.device(b.device):
            net(tf.zeros((1, 64, 64, 3)), training=False)
    if params is not None:
        b.d2l.import_params(net, params)
    return net


def _torch_ssd(b, num_classes, widths):
    import torch
    from torch import nn

    d2l = b.d2l

    def down_sample_blk(pairs):
        blk = []
        for cin, cout in pairs:
            blk += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, eps=1e-5),
                    nn.ReLU()]
        return blk + [nn.MaxPool2d(2)]

    class TinySSD(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_classes = num_classes
            for i, (pairs, cout) in enumerate(_blocks(widths)):
                if i == 0:
                    blk = nn.Sequential(*[m for k in range(3)
                                          for m in down_sample_blk(pairs[2 * k:2 * k + 2])])
                elif i < 4:
                    blk = nn.Sequential(*down_sample_blk(pairs))
                else:
                    blk = nn.AdaptiveMaxPool2d((1, 1))
                setattr(self, f"blk_{i}", blk)
                setattr(self, f"cls_{i}", nn.Conv2d(cout, NUM_ANCHORS * (num_classes + 1), 3,
                                                     padding=1))
                setattr(self, f"bbox_{i}", nn.Conv2d(cout, NUM_ANCHORS * 4, 3, padding=1))

        def forward(self, X):
            anchors, cls_preds, bbox_preds = [], [], []
            for i in range(5):
                X = getattr(self, f"blk_{i}")(X)
                anchors.append(d2l.multibox_prior(X, SIZES[i], RATIOS[i]))
                cls_preds.append(getattr(self, f"cls_{i}")(X))
                bbox_preds.append(getattr(self, f"bbox_{i}")(X))

            def flat(preds):
                return torch.cat([torch.flatten(p.permute(0, 2, 3, 1), start_dim=1)
                                  for p in preds], dim=1)
            cls = flat(cls_preds)
            return (torch.cat(anchors, dim=1),
                    cls.reshape(cls.shape[0], -1, self.num_classes + 1), flat(bbox_preds))

    return TinySSD()


def _mxnet_ssd(b, num_classes, widths):
    from mxnet import np as mnp
    from mxnet import npx
    from mxnet.gluon import nn

    d2l = b.d2l

    def down_sample_blk(blk, pairs):
        for _, cout in pairs:
            blk.add(nn.Conv2D(cout, 3, padding=1), nn.BatchNorm(epsilon=1e-5),
                    nn.Activation("relu"))
        blk.add(nn.MaxPool2D(2))

    class TinySSD(nn.Block):
        def __init__(self):
            super().__init__()
            self.num_classes = num_classes
            for i, (pairs, _) in enumerate(_blocks(widths)):
                blk = nn.Sequential()
                if i == 0:
                    for k in range(3):
                        down_sample_blk(blk, pairs[2 * k:2 * k + 2])
                elif i < 4:
                    down_sample_blk(blk, pairs)
                else:
                    blk.add(nn.GlobalMaxPool2D())
                setattr(self, f"blk_{i}", blk)
                setattr(self, f"cls_{i}", nn.Conv2D(NUM_ANCHORS * (num_classes + 1), 3,
                                                     padding=1))
                setattr(self, f"bbox_{i}", nn.Conv2D(NUM_ANCHORS * 4, 3, padding=1))

        def forward(self, X):
            anchors, cls_preds, bbox_preds = [], [], []
            for i in range(5):
                X = getattr(self, f"blk_{i}")(X)
                anchors.append(d2l.multibox_prior(X, SIZES[i], RATIOS[i]))
                cls_preds.append(getattr(self, f"cls_{i}")(X))
                bbox_preds.append(getattr(self, f"bbox_{i}")(X))

            def flat(preds):
                return mnp.concatenate([npx.batch_flatten(p.transpose(0, 2, 3, 1))
                                        for p in preds], axis=1)
            cls = flat(cls_preds)
            return (mnp.concatenate(anchors, axis=1),
                    cls.reshape(cls.shape[0], -1, self.num_classes + 1), flat(bbox_preds))

    return TinySSD()


def _keras_ssd(b, num_classes, widths):
    import tensorflow as tf
    from tensorflow import keras

    d2l, L = b.d2l, keras.layers

    def down_sample_blk(pairs):
        blk = []
        for _, cout in pairs:
            blk += [L.Conv2D(cout, 3, padding="same"), L.BatchNormalization(epsilon=1e-5),
                    L.ReLU()]
        return blk + [L.MaxPool2D(2)]

    class TinySSD(keras.Model):
        def __init__(self):
            super().__init__()
            self.num_classes = num_classes
            for i, (pairs, _) in enumerate(_blocks(widths)):
                if i == 0:
                    blk = keras.Sequential([m for k in range(3)
                                            for m in down_sample_blk(pairs[2 * k:2 * k + 2])])
                elif i < 4:
                    blk = keras.Sequential(down_sample_blk(pairs))
                else:
                    blk = L.GlobalMaxPool2D(keepdims=True)
                setattr(self, f"blk_{i}", blk)
                setattr(self, f"cls_{i}", L.Conv2D(NUM_ANCHORS * (num_classes + 1), 3,
                                                    padding="same"))
                setattr(self, f"bbox_{i}", L.Conv2D(NUM_ANCHORS * 4, 3, padding="same"))

        def call(self, X, training=None):
            anchors, cls_preds, bbox_preds = [], [], []
            for i in range(5):
                X = getattr(self, f"blk_{i}")(X, training=training)
                anchors.append(d2l.multibox_prior(X, SIZES[i], RATIOS[i]))
                cls_preds.append(getattr(self, f"cls_{i}")(X))
                bbox_preds.append(getattr(self, f"bbox_{i}")(X))

            def flat(preds):  # NHWC already: (h, w, c) order as the others' permute
                return tf.concat([tf.reshape(p, (tf.shape(p)[0], -1)) for p in preds], axis=1)
            cls = flat(cls_preds)
            return (tf.concat(anchors, axis=1),
                    tf.reshape(cls, (tf.shape(cls)[0], -1, self.num_classes + 1)),
                    flat(bbox_preds))

    return TinySSD()


# --- training, the book's way -------------------------------------------------------------

def forward(b, net, X):
    """(anchors, class logits (B, A, C + 1), box offsets (B, 4A)) as NumPy, training mode."""
    X = b.images(X)
    if b.name == "torch":
        net.train()
        out = net(X)
    elif b.name == "mxnet":
        with b.fw.autograd.record(train_mode=True):
            out = net(X)
    else:
        out = net(X, training=True)
    return [b.numpy(t) for t in out]


def train(b, net, batches, lr=0.2, wd=5e-4):
    """The book's training loop (13.7.2) over `batches` [(X NCHW, labels (B, 1, 5))]: labels
    by multibox_target, class cross-entropy + masked L1 box loss per example, their batch
    mean minimised by SGD with weight decay. Returns [(class loss, box loss)] per step."""
    d2l, history = b.d2l, []
    step = {"torch": _torch_step, "mxnet": _mxnet_step, "tensorflow": _keras_step}[b.name](
        b, net, lr, wd)
    for X, Y in batches:
        X, Y = b.images(X), b.tensor(Y)
        history.append(step(d2l, X, Y))
    return history


def _torch_step(b, net, lr, wd):
    import torch
    from torch import nn

    trainer = torch.optim.SGD(net.parameters(), lr=lr, weight_decay=wd)
    cls_loss, bbox_loss = nn.CrossEntropyLoss(reduction="none"), nn.L1Loss(reduction="none")

    def step(d2l, X, Y):
        net.train()
        trainer.zero_grad()
        anchors, cls_preds, bbox_preds = net(X)
        bbox_labels, bbox_masks, cls_labels = d2l.multibox_target(anchors, Y)
        batch, classes = cls_preds.shape[0], cls_preds.shape[2]
        cls = cls_loss(cls_preds.reshape(-1, classes), cls_labels.reshape(-1)).reshape(
            batch, -1).mean(dim=1)
        bbox = bbox_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks).mean(dim=1)
        (cls + bbox).mean().backward()
        trainer.step()
        return [cls.mean().item(), bbox.mean().item()]
    return step


def _mxnet_step(b, net, lr, wd):
    from mxnet import autograd, gluon

    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr, "wd": wd})
    cls_loss, bbox_loss = gluon.loss.SoftmaxCrossEntropyLoss(), gluon.loss.L1Loss()

    def step(d2l, X, Y):
        with autograd.record():
            anchors, cls_preds, bbox_preds = net(X)
            bbox_labels, bbox_masks, cls_labels = d2l.multibox_target(anchors, Y)
            cls = cls_loss(cls_preds, cls_labels)
            bbox = bbox_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks)
            loss = cls + bbox
        loss.backward()
        trainer.step(X.shape[0])
        return [float(cls.mean()), float(bbox.mean())]
    return step


def _keras_step(b, net, lr, wd):
    import tensorflow as tf
    from tensorflow import keras

    trainer = keras.optimizers.SGD(learning_rate=lr, weight_decay=wd)
    cls_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def step(d2l, X, Y):
        with tf.device(b.device), tf.GradientTape() as tape:
            anchors, cls_preds, bbox_preds = net(X, training=True)
            bbox_labels, bbox_masks, cls_labels = d2l.multibox_target(anchors, Y)
            cls = tf.reduce_mean(cls_loss(cls_labels, cls_preds), axis=1)
            bbox = tf.reduce_mean(tf.abs(bbox_preds * bbox_masks - bbox_labels * bbox_masks),
                                  axis=1)
            loss = tf.reduce_mean(cls + bbox)
        grads = tape.gradient(loss, net.trainable_variables)
        trainer.apply_gradients(zip(grads, net.trainable_variables))
        return [float(tf.reduce_mean(cls)), float(tf.reduce_mean(bbox))]
    return step
