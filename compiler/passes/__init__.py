"""Graph -> Graph passes, one per file, each tested on its own."""
