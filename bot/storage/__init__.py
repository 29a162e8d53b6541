"""State as data (DESIGN.md section 9): the codec, the memory and Blob stores, conditional claims."""
