//! Tests of the models against captured controller responses and AKO bodies.
