"""Chapter 8, Recurrent Neural Networks: the text pipeline (8.2-8.3), the RNN from scratch
(8.5) and the concise RNN model (8.6)."""

# --- 8.2-8.3 text data (owner: text pipeline) ---
DATA_ENTRIES = []
# --- end 8.2-8.3 ---

# --- 8.5 RNN from scratch and training (owner: RNN training) ---
SCRATCH_ENTRIES = []
# --- end 8.5 ---

# --- 8.6 concise RNN model (owner: RNN layers) ---
CONCISE_ENTRIES = []
# --- end 8.6 ---

ENTRIES = DATA_ENTRIES + SCRATCH_ENTRIES + CONCISE_ENTRIES
