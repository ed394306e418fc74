package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tintoproject/tinto/pkg/verr"
)

// ParsePEM parses the first PEM block of data: "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS#1),
// "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC1) or "CERTIFICATE"
// (X.509). A private key is reduced to its public part; encrypted PEM blocks are refused.
//
// scheme is the signing scheme; "" means the default for the key: rsassa-pss-sha256 for RSA (as
// both in-toto implementations assume), ed25519, and for ECDSA the scheme of the key's curve
// (ecdsa-sha2-nistp256, -nistp384 or -nistp521). The key type is "rsa", "ecdsa" or "ed25519".
//
// keyval.public, and with it the keyid, is what both in-toto implementations compute for the
// same file: for an RSA "PUBLIC KEY" block, the block's text from its BEGIN line to its END line
// with "\r\n" turned into "\n" (python securesystemslib); otherwise the PKIX PEM encoding of the
// public key without a trailing newline (RSA, ECDSA), or the hex of an Ed25519 key.
func ParsePEM(data []byte, scheme string) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, invalid("no PEM block found")
	}
	if _, enc := block.Headers["Proc-Type"]; enc || strings.Contains(block.Type, "ENCRYPTED") {
		return nil, invalid("encrypted PEM keys are not supported")
	}
	var (
		pub  crypto.PublicKey
		cert *x509.Certificate
		err  error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY":
		var priv any
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err == nil {
			pub, err = publicOf(priv)
		}
	case "RSA PRIVATE KEY":
		var priv *rsa.PrivateKey
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		if err == nil {
			pub = priv.Public()
		}
	case "EC PRIVATE KEY":
		var priv *ecdsa.PrivateKey
		priv, err = x509.ParseECPrivateKey(block.Bytes)
		if err == nil {
			pub = priv.Public()
		}
	case "CERTIFICATE":
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, invalid("unsupported PEM block type %q", block.Type)
	}
	if err != nil {
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: "PEM " + block.Type, Err: err}
	}
	text := ""
	if block.Type == "PUBLIC KEY" {
		if _, ok := pub.(*rsa.PublicKey); ok {
			text = pemBlockText(data, "PUBLIC KEY")
		}
	}
	k, err := newKeyFromPublic(pub, scheme, text)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		k.cert = cert
		k.certPEM = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	}
	return k, nil
}

func publicOf(priv any) (crypto.PublicKey, error) {
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	return s.Public(), nil
}

// pemBlockText returns the text of the first PEM block of the given type, from its BEGIN line to
// its END line, with CRLF turned into LF (what securesystemslib's extract_pem keeps), or "" if
// the text does not decode to the same block that pem.Decode found first.
func pemBlockText(data []byte, typ string) string {
	begin := []byte("-----BEGIN " + typ + "-----")
	end := []byte("-----END " + typ + "-----")
	i := bytes.Index(data, begin)
	if i < 0 {
		return ""
	}
	j := bytes.Index(data[i:], end)
	if j < 0 {
		return ""
	}
	text := strings.ReplaceAll(string(data[i:i+j+len(end)]), "\r\n", "\n")
	b1, _ := pem.Decode([]byte(text))
	b2, _ := pem.Decode(data)
	if b1 == nil || b2 == nil || !bytes.Equal(b1.Bytes, b2.Bytes) {
		return ""
	}
	return text
}

// defaultScheme returns the default scheme for a public key.
func defaultScheme(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return SchemeRSAPSSSHA256, nil
	case ed25519.PublicKey:
		return SchemeEd25519, nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return SchemeECDSAP256, nil
		case elliptic.P384():
			return SchemeECDSAP384, nil
		case elliptic.P521():
			return SchemeECDSAP521, nil
		}
		return "", invalid("unsupported ECDSA curve")
	}
	return "", invalid("unsupported public key type %T", pub)
}

// newKeyFromPublic builds a securesystemslib key for pub with the default keyid_hash_algorithms.
// text, if not "", is keyval.public.
func newKeyFromPublic(pub crypto.PublicKey, scheme, text string) (*Key, error) {
	if scheme == "" {
		s, err := defaultScheme(pub)
		if err != nil {
			return nil, err
		}
		scheme = s
	}
	info, ok := lookupScheme(scheme)
	if !ok {
		return nil, invalid("unknown scheme %q", scheme)
	}
	if err := checkPublic(pub, info); err != nil {
		return nil, err
	}
	var keytype string
	switch p := pub.(type) {
	case *rsa.PublicKey:
		keytype = KeyTypeRSA
	case *ecdsa.PublicKey:
		keytype = KeyTypeECDSA
	case ed25519.PublicKey:
		keytype = KeyTypeEd25519
		text = hex.EncodeToString(p)
	}
	if text == "" {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, &verr.InputError{What: "key", Offset: -1, Msg: "cannot encode public key", Err: err}
		}
		text = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	}
	id, err := KeyID(keytype, scheme, text, defaultKeyIDHashAlgorithms)
	if err != nil {
		return nil, err
	}
	return &Key{
		KeyID:      id,
		KeyType:    keytype,
		Scheme:     scheme,
		Public:     pub,
		publicText: text,
		hashAlgs:   append([]string(nil), defaultKeyIDHashAlgorithms...),
		info:       info,
	}, nil
}

// NewKey returns the securesystemslib key for a public key and scheme ("" for the default, as
// ParsePEM chooses it), with the keyid that securesystemslib computes.
func NewKey(pub crypto.PublicKey, scheme string) (*Key, error) {
	return newKeyFromPublic(pub, scheme, "")
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, invalid("certificate is not a PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: "bad certificate", Err: err}
	}
	return cert, nil
}

// MarshalPEM returns the PKIX PEM ("PUBLIC KEY") encoding of k's public key: the file python's
// in-toto-verify loads with "-t rsa" (the default) and in-toto-golang loads for any key type.
// For an RSA key parsed from a "PUBLIC KEY" block it is keyval.public itself, so that the keyid
// python computes from the file is k.KeyID.
func (k *Key) MarshalPEM() ([]byte, error) {
	if k == nil || k.Public == nil {
		return nil, invalid("no public key")
	}
	if strings.HasPrefix(k.publicText, "-----BEGIN PUBLIC KEY-----") {
		return []byte(strings.TrimRight(k.publicText, "\r\n") + "\n"), nil
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: "cannot encode public key", Err: err}
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Key file types for Load, as in-toto-verify's -t/--key-types names them, plus OpenPGP.
const (
	FileRSA     = "rsa"
	FileEd25519 = "ed25519"
	FileECDSA   = "ecdsa"
	FileOpenPGP = "openpgp"
)

// Load reads a public key file the way in-toto-verify's -k/-t flags do. keyType is "rsa" (also
// for ""), "ed25519", "ecdsa" or "openpgp":
//
//   - "rsa": a PEM file (python in-toto reads PKIX "PUBLIC KEY" files; any PEM form that
//     ParsePEM accepts is read, with scheme rsassa-pss-sha256). The key must be an RSA key.
//   - "ed25519", "ecdsa": a securesystemslib JSON key file (as in-toto-keygen writes it) whose
//     key type matches; a PEM file is read too (in-toto-golang reads PEM for every type).
//   - "openpgp": an armored or binary OpenPGP public key (ParseOpenPGP).
//
// Files larger than 1 MiB are refused.
func Load(path, keyType string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, &verr.InputError{What: "key file " + path, Offset: -1, Msg: "larger than 1 MiB"}
	}
	k, err := parseKeyFile(data, keyType)
	if err != nil {
		var ie *verr.InputError
		if errors.As(err, &ie) && ie.What == "key" {
			return nil, &verr.InputError{What: "key file " + path, Offset: ie.Offset, Msg: ie.Msg, Err: ie.Err}
		}
		return nil, err
	}
	return k, nil
}

// ParseKeyFile parses the contents of a key file as Load does.
func ParseKeyFile(data []byte, keyType string) (*Key, error) {
	return parseKeyFile(data, keyType)
}

func parseKeyFile(data []byte, keyType string) (*Key, error) {
	trimmed := bytes.TrimSpace(data)
	isJSON := len(trimmed) > 0 && trimmed[0] == '{'
	switch keyType {
	case "", FileRSA:
		k, err := ParsePEM(data, SchemeRSAPSSSHA256)
		if err != nil {
			return nil, err
		}
		return k, nil
	case FileEd25519, FileECDSA:
		var (
			k   *Key
			err error
		)
		if isJSON {
			k, err = ParseSSLib(data)
		} else {
			k, err = ParsePEM(data, "")
		}
		if err != nil {
			return nil, err
		}
		fam, _ := keyTypeFamily(k.KeyType)
		if fam != keyType {
			return nil, invalid("file holds a %s key, not %s", k.KeyType, keyType)
		}
		return k, nil
	case FileOpenPGP:
		return ParseOpenPGP(data)
	}
	return nil, invalid("unknown key file type %q (want rsa, ed25519, ecdsa or openpgp)", keyType)
}
