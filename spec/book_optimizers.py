"""The from-scratch optimizers of chapter 11 (11.4 SGD, 11.6 momentum, 11.7 AdaGrad, 11.8
RMSProp, 11.9 AdaDelta, 11.10 Adam), written per framework the way the book's cells write
them: the `trainer_fn` that `train_ch11` calls, with the book's state initialisers.

`book_optimizer(backend, kind, feature_dim)` gives (trainer_fn, states, hyperparams). MXNet
and PyTorch steps read `p.grad` (PyTorch's zero it afterwards); TensorFlow steps take the
gradients as their second argument and update tf.Variables. Hyperparameters are the
chapter's, scaled for a few steps (`HYPERPARAMS`).
"""

HYPERPARAMS = {"sgd": {"lr": 0.05}, "momentum": {"lr": 0.02, "momentum": 0.5},
               "adagrad": {"lr": 0.1}, "rmsprop": {"lr": 0.01, "gamma": 0.9},
               "adadelta": {"rho": 0.9}, "adam": {"lr": 0.01, "t": 1}}
EPS = {"adagrad": 1e-6, "rmsprop": 1e-6, "adadelta": 1e-5, "adam": 1e-6}  # the book's


def book_optimizer(b, kind, feature_dim):
    """(trainer_fn, states, hyperparams) of the book's `kind` optimizer in backend `b`."""
    steps = {"mxnet": _mxnet, "torch": _torch, "tensorflow": _tensorflow}[b.name]()
    return steps[kind], _states(b, kind, feature_dim), dict(HYPERPARAMS[kind])


def _states(b, kind, feature_dim):
    """Zero states of shapes (feature_dim, 1) and (1,): none for SGD, one per parameter for
    momentum, AdaGrad, RMSProp; two per parameter for AdaDelta and Adam."""
    if b.name == "tensorflow":
        tf = b.fw
        zeros = lambda: (tf.Variable(tf.zeros((feature_dim, 1))),  # noqa: E731
                         tf.Variable(tf.zeros(1)))
    elif b.name == "torch":
        zeros = lambda: (b.fw.zeros((feature_dim, 1)), b.fw.zeros(1))  # noqa: E731
    else:
        zeros = lambda: (b.fw.np.zeros((feature_dim, 1)), b.fw.np.zeros(1))  # noqa: E731
    if kind == "sgd":
        return []
    if kind in ("momentum", "adagrad", "rmsprop"):
        return zeros()
    (a_w, a_b), (c_w, c_b) = zeros(), zeros()
    return ((a_w, c_w), (a_b, c_b))


def _mxnet():
    from mxnet import np

    def sgd(params, states, hyperparams):
        for p in params:
            p[:] -= hyperparams["lr"] * p.grad

    def sgd_momentum(params, states, hyperparams):
        for p, v in zip(params, states):
            v[:] = hyperparams["momentum"] * v + p.grad
            p[:] -= hyperparams["lr"] * v

    def adagrad(params, states, hyperparams):
        eps = 1e-6
        for p, s in zip(params, states):
            s[:] += np.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / np.sqrt(s + eps)

    def rmsprop(params, states, hyperparams):
        gamma, eps = hyperparams["gamma"], 1e-6
        for p, s in zip(params, states):
            s[:] = gamma * s + (1 - gamma) * np.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / np.sqrt(s + eps)

    def adadelta(params, states, hyperparams):
        rho, eps = hyperparams["rho"], 1e-5
        for p, (s, delta) in zip(params, states):
            s[:] = rho * s + (1 - rho) * np.square(p.grad)
            g = (np.sqrt(delta + eps) / np.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g

    def adam(params, states, hyperparams):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for p, (v, s) in zip(params, states):
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * np.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (np.sqrt(s_bias_corr) + eps)
        hyperparams["t"] += 1

    return dict(sgd=sgd, momentum=sgd_momentum, adagrad=adagrad, rmsprop=rmsprop,
                adadelta=adadelta, adam=adam)


def _torch():
    import torch

    def sgd(params, states, hyperparams):
        for p in params:
            p.data.sub_(hyperparams["lr"] * p.grad)
            p.grad.data.zero_()

    def sgd_momentum(params, states, hyperparams):
        for p, v in zip(params, states):
            with torch.no_grad():
                v[:] = hyperparams["momentum"] * v + p.grad
                p[:] -= hyperparams["lr"] * v
            p.grad.data.zero_()

    def adagrad(params, states, hyperparams):
        eps = 1e-6
        for p, s in zip(params, states):
            with torch.no_grad():
                s[:] += torch.square(p.grad)
                p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
            p.grad.data.zero_()

    def rmsprop(params, states, hyperparams):
        gamma, eps = hyperparams["gamma"], 1e-6
        for p, s in zip(params, states):
            with torch.no_grad():
                s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
                p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
            p.grad.data.zero_()

    def adadelta(params, states, hyperparams):
        rho, eps = hyperparams["rho"], 1e-5
        for p, (s, delta) in zip(params, states):
            with torch.no_grad():
                s[:] = rho * s + (1 - rho) * torch.square(p.grad)
                g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
                p[:] -= g
                delta[:] = rho * delta + (1 - rho) * g * g
            p.grad.data.zero_()

    def adam(params, states, hyperparams):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for p, (v, s) in zip(params, states):
            with torch.no_grad():
                v[:] = beta1 * v + (1 - beta1) * p.grad
                s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
                v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
                s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
                p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
            p.grad.data.zero_()
        hyperparams["t"] += 1

    return dict(sgd=sgd, momentum=sgd_momentum, adagrad=adagrad, rmsprop=rmsprop,
                adadelta=adadelta, adam=adam)


def _tensorflow():
    import tensorflow as tf

    def sgd(params, grads, states, hyperparams):
        for param, grad in zip(params, grads):
            param.assign_sub(hyperparams["lr"] * grad)

    def sgd_momentum(params, grads, states, hyperparams):
        for p, v, g in zip(params, states, grads):
            v.assign(hyperparams["momentum"] * v + g)
            p.assign(p - hyperparams["lr"] * v)

    def adagrad(params, grads, states, hyperparams):
        eps = 1e-6
        for p, s, g in zip(params, states, grads):
            s.assign(s + tf.math.square(g))
            p.assign(p - hyperparams["lr"] * g / tf.math.sqrt(s + eps))

    def rmsprop(params, grads, states, hyperparams):
        gamma, eps = hyperparams["gamma"], 1e-6
        for p, s, g in zip(params, states, grads):
            s.assign(gamma * s + (1 - gamma) * tf.math.square(g))
            p.assign(p - hyperparams["lr"] * g / tf.math.sqrt(s + eps))

    def adadelta(params, grads, states, hyperparams):
        rho, eps = hyperparams["rho"], 1e-5
        for p, (s, delta), grad in zip(params, states, grads):
            s.assign(rho * s + (1 - rho) * tf.math.square(grad))
            g = (tf.math.sqrt(delta + eps) / tf.math.sqrt(s + eps)) * grad
            p.assign(p - g)
            delta.assign(rho * delta + (1 - rho) * g * g)

    def adam(params, grads, states, hyperparams):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for p, (v, s), grad in zip(params, states, grads):
            v.assign(beta1 * v + (1 - beta1) * grad)
            s.assign(beta2 * s + (1 - beta2) * tf.math.square(grad))
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p.assign(p - hyperparams["lr"] * v_bias_corr / (tf.math.sqrt(s_bias_corr) + eps))
        hyperparams["t"] += 1

    return dict(sgd=sgd, momentum=sgd_momentum, adagrad=adagrad, rmsprop=rmsprop,
                adadelta=adadelta, adam=adam)
