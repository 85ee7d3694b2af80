"""Chapter 17, Generative Adversarial Networks, for MXNet (`DATA_HUB['pokemon']`, 17.2, is
framework-neutral)."""

from mxnet import autograd, np

__all__ = ["update_D", "update_G"]


def update_D(X, Z, net_D, net_G, loss, trainer_D):
    """One discriminator step on real `X` (B, ...) and fakes net_G(Z) (detached): per-example
    loss (loss(D(X), 1) + loss(D(fake), 0)) / 2, then `trainer_D.step(B)` (the gradient of
    the batch mean). Returns the loss summed over the batch, a float."""
    batch_size = X.shape[0]
    ones = np.ones((batch_size,), ctx=X.ctx)
    zeros = np.zeros((batch_size,), ctx=X.ctx)
    with autograd.record():
        real_Y = net_D(X)
        fake_Y = net_D(net_G(Z).detach())
        loss_D = (loss(real_Y, ones) + loss(fake_Y, zeros)) / 2
    loss_D.backward()
    trainer_D.step(batch_size)
    return float(loss_D.sum())


def update_G(Z, net_D, net_G, loss, trainer_G):
    """One generator step: per-example loss(D(G(Z)), 1), then `trainer_G.step(B)` (gradients
    also reach D's parameters; `update_D` overwrites them). Returns the summed loss, a
    float."""
    batch_size = Z.shape[0]
    ones = np.ones((batch_size,), ctx=Z.ctx)
    with autograd.record():
        loss_G = loss(net_D(net_G(Z)), ones)
    loss_G.backward()
    trainer_G.step(batch_size)
    return float(loss_G.sum())
