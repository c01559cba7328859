"""Reading and writing files: audio in, video out, atomic writes."""
