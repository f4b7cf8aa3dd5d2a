"""Pure geometry: CRS conversion, partitions, sampling, simplification, layer builders."""
