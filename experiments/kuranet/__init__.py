"""KuraNet studies: global synchrony (Cases I–III) and cluster synchrony (mixtures, images)."""
