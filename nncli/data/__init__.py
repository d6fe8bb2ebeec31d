"""Data in: readers, preprocessing, preparation (splits, class weights, checks), memmap, generators, convert."""
