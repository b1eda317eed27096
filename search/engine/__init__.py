"""The engine: spaces, data settings, samplers and pruners, one trial's training, the search
loop, local workers, signals and TensorFlow's threads; everything that trains a search's trials.
"""
