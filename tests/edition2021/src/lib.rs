//! Empty: the tests are in `tests/`, compiled as edition 2021.
