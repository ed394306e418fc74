// Package buildsystem holds an example release gate for build systems and CI: a Makefile and a
// shell step (gate.sh) that stop a release unless "tinto intoto verify" accepts the supply chain
// the pipeline produced and "tinto verify" accepts what the repository serves. Its test builds
// tinto, generates a repository and runs both gates against it, allowed and tampered.
package buildsystem
