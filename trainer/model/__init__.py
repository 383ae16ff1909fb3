"""The network and its proofs: affine -> ReLU -> affine -> softmax cross-entropy.

network.py is the derivation as running code (the reference every proof runs); fast.py is its
twin for training, tested equal to it; jacobian.py and gradcheck.py prove the compact backward
against the full Jacobians and centred differences. The functional API is importable from here.
"""

from trainer.model.network import PARAM_NAMES, init_params, loss_and_grads, predict, predict_proba

__all__ = ["PARAM_NAMES", "init_params", "loss_and_grads", "predict", "predict_proba"]
