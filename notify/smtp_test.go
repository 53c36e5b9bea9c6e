package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tradeassure/tradeassure/notify"
)

// TestNewSMTPRefusesUnsafeSettings: passwords never travel in plain text to another machine, and
// a half-given credential or a bad sender is refused at startup.
func TestNewSMTPRefusesUnsafeSettings(t *testing.T) {
	for name, c := range map[string]notify.SMTPConfig{
		"plain text off the machine": {Addr: "mail.example.com:25", From: "n@example.com", TLS: notify.NoTLS},
		"user without password":      {Addr: "mail.example.com:587", From: "n@example.com", User: "n"},
		"sender with a name":         {Addr: "mail.example.com:587", From: "Notes <n@example.com>"},
		"no port":                    {Addr: "mail.example.com", From: "n@example.com"},
		"unknown TLS mode":           {Addr: "mail.example.com:587", From: "n@example.com", TLS: "maybe"},
	} {
		if _, err := notify.NewSMTP(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := notify.NewSMTP(notify.SMTPConfig{Addr: "127.0.0.1:25", From: "n@example.com", TLS: notify.NoTLS}); err != nil {
		t.Errorf("loopback relay: %v", err)
	}
}

// TestSMTPStartTLSAndAuth submits through STARTTLS with PLAIN authentication to a server whose
// certificate the sender verifies; a server that cannot upgrade gets nothing, password included.
func TestSMTPStartTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	s := &sink{}
	var authed []string
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &authSession{session: session{s: s}, authed: &authed}, nil
	}))
	srv.Domain, srv.ErrorLog = "localhost", log.New(io.Discard, "", 0)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	addr := serve(t, srv)

	mailer, err := notify.NewSMTP(notify.SMTPConfig{Addr: addr, From: "n@tradeassure.test", User: "notes", Password: "s3cret",
		TLSConf: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	msg := notify.Compose(notify.Mail{From: mailer.From(), Subject: "Hello", Text: "t", Link: "l", Date: t0})
	if err := mailer.Send(context.Background(), "zoe@people.test", msg); err != nil {
		t.Fatal(err)
	}
	if got := s.messages(); len(got) != 1 || got[0].To != "zoe@people.test" || len(authed) != 1 || authed[0] != "notes:s3cret" {
		t.Fatalf("got %+v, auth %v", got, authed)
	}

	// No STARTTLS offered: the sender stops before AUTH.
	plain := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &authSession{session: session{s: s}, authed: &authed}, nil
	}))
	plain.Domain, plain.ErrorLog, plain.AllowInsecureAuth = "localhost", log.New(io.Discard, "", 0), true
	mailer, err = notify.NewSMTP(notify.SMTPConfig{Addr: serve(t, plain), From: "n@tradeassure.test", User: "notes", Password: "s3cret",
		TLSConf: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.Send(context.Background(), "zoe@people.test", msg); err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Fatalf("sent without TLS: %v", err)
	}
	if len(authed) != 1 || len(s.messages()) != 1 {
		t.Fatalf("the password or a message went out in plain text: %v", authed)
	}
}

type authSession struct {
	session
	authed *[]string
}

func (a *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (a *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		*a.authed = append(*a.authed, user+":"+pass)
		if pass != "s3cret" {
			return errors.New("bad password")
		}
		return nil
	}), nil
}

func serve(t *testing.T, srv *smtp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), // the TLS stack checks the wall clock
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
