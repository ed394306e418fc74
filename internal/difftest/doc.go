// Package difftest compares tinto's in-toto verification with the reference implementation,
// python in-toto 1.3.1, and with in-toto-golang v0.11.0.
//
// The package has no API of its own beyond the known-deviation classifier (Classify) that the
// tests use; everything else lives in its tests and in gen/gen.py, a generator of random supply
// chains written against python in-toto's own API. See README.md for how chains are generated,
// which flags the tests take, and what is compared.
//
// A disagreement between tinto and python in-toto fails the test unless Classify recognises it
// as one of the deliberate deviations listed in docs/intoto-deviations.md, section "Found by
// differential testing".
package difftest
