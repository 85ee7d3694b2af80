"""Chapter 17, Generative Adversarial Networks, for PyTorch (`DATA_HUB['pokemon']`, 17.2, is
framework-neutral)."""

import torch

__all__ = ["update_D", "update_G"]


def update_D(X, Z, net_D, net_G, loss, trainer_D):
    """One discriminator step on real `X` (B, ...) and fakes net_G(Z) (detached): loss
    (loss(D(X), 1) + loss(D(fake), 0)) / 2 with labels shaped as D's output, then
    `trainer_D.step()`. Returns the loss (the book's loss sums over the batch), 0-d."""
    batch_size = X.shape[0]
    ones = torch.ones((batch_size,), device=X.device)
    zeros = torch.zeros((batch_size,), device=X.device)
    trainer_D.zero_grad()
    real_Y = net_D(X)
    fake_Y = net_D(net_G(Z).detach())
    loss_D = (loss(real_Y, ones.reshape(real_Y.shape))
              + loss(fake_Y, zeros.reshape(fake_Y.shape))) / 2
    loss_D.backward()
    trainer_D.step()
    return loss_D


def update_G(Z, net_D, net_G, loss, trainer_G):
    """One generator step: loss(D(G(Z)), 1) (fakes labelled real), then `trainer_G.step()`
    (gradients also reach D's parameters; `update_D` zeroes them first). Returns the loss,
    0-d."""
    batch_size = Z.shape[0]
    ones = torch.ones((batch_size,), device=Z.device)
    trainer_G.zero_grad()
    fake_Y = net_D(net_G(Z))
    loss_G = loss(fake_Y, ones.reshape(fake_Y.shape))
    loss_G.backward()
    trainer_G.step()
    return loss_G
