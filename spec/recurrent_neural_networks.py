"""Chapter 8, Recurrent Neural Networks: the text pipeline (8.2-8.3), the RNN from scratch
(8.5) and the concise RNN model (8.6)."""

# --- 8.2-8.3 text data (owner: text pipeline) ---
DATA_ENTRIES = []
# --- end 8.2-8.3 ---

# --- 8.5-8.6 models and training (owner: RNN) ---
MODEL_ENTRIES = []
# --- end 8.5-8.6 ---

ENTRIES = DATA_ENTRIES + MODEL_ENTRIES
