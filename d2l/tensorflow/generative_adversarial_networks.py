"""Chapter 17, Generative Adversarial Networks, for TensorFlow (`DATA_HUB['pokemon']`, 17.2,
is framework-neutral)."""

import tensorflow as tf

__all__ = ["update_D", "update_G"]


def update_D(X, Z, net_D, net_G, loss, optimizer_D):
    """One discriminator step on real `X` (B, ...) and fakes net_G(Z) (made outside the
    tape): (loss(1, D(X)) + loss(0, D(fake))) * B / 2 with the Keras loss called label first
    on D's logits flattened to (B,) (the book's Keras loss averages: times B it is the batch
    sum), gradients applied to D's variables. Returns the loss, 0-d."""
    batch_size = X.shape[0]
    ones, zeros = tf.ones((batch_size,)), tf.zeros((batch_size,))
    fake_X = net_G(Z)
    with tf.GradientTape() as tape:
        real_Y = tf.reshape(net_D(X), (batch_size,))
        fake_Y = tf.reshape(net_D(fake_X), (batch_size,))
        loss_D = (loss(ones, real_Y) + loss(zeros, fake_Y)) * batch_size / 2
    variables = net_D.trainable_variables
    optimizer_D.apply_gradients(zip(tape.gradient(loss_D, variables), variables))
    return loss_D


def update_G(Z, net_D, net_G, loss, optimizer_G):
    """One generator step: loss(1, D(G(Z))) * B (fakes labelled real), gradients applied to
    G's variables only. Returns the loss, 0-d."""
    batch_size = Z.shape[0]
    ones = tf.ones((batch_size,))
    with tf.GradientTape() as tape:
        fake_Y = tf.reshape(net_D(net_G(Z)), (batch_size,))
        loss_G = loss(ones, fake_Y) * batch_size
    variables = net_G.trainable_variables
    optimizer_G.apply_gradients(zip(tape.gradient(loss_G, variables), variables))
    return loss_G
