"""The example study files shipped with hpsearch (``hpsearch run quickstart``)."""
