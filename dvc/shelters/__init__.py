"""Welfare and general shelters (福祉避難所・避難所): capacity, care types, occupancy."""
