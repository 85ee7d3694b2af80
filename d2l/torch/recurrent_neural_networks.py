"""Chapter 8, Recurrent Neural Networks, for torch: the text datasets of 8.2-8.3 (built on
`d2l.common.text`), the RNN from scratch (8.5) and the concise RNN model (8.6)."""

# --- 8.2-8.3 text data (owner: text pipeline) ---
__all__ = []
# --- end 8.2-8.3 ---

# --- 8.5 RNN from scratch and training (owner: RNN training) ---
__all__ += []
# --- end 8.5 ---

# --- 8.6 concise RNN model (owner: RNN layers) ---
__all__ += []
# --- end 8.6 ---
