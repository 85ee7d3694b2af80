"""Chapter 9, Modern Recurrent Neural Networks: machine-translation data (9.5), the
encoder-decoder interfaces (9.6) and sequence-to-sequence learning (9.7)."""

# --- 9.5 machine-translation data (owner: text pipeline) ---
DATA_ENTRIES = []
# --- end 9.5 ---

# --- 9.6-9.7 encoder-decoder and seq2seq (owner: seq2seq) ---
MODEL_ENTRIES = []
# --- end 9.6-9.7 ---

ENTRIES = DATA_ENTRIES + MODEL_ENTRIES
