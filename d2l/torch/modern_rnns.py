"""Chapter 9, Modern Recurrent Neural Networks, for torch: the machine-translation dataset
(9.5, built on `d2l.common.machine_translation`), the encoder-decoder interfaces (9.6) and
sequence-to-sequence learning (9.7)."""

# --- 9.5 machine-translation data (owner: text pipeline) ---
__all__ = []
# --- end 9.5 ---

# --- 9.6-9.7 encoder-decoder and seq2seq (owner: seq2seq) ---
__all__ += []
# --- end 9.6-9.7 ---
