package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

// TLS modes.
const (
	StartTLS TLSMode = "starttls" // connect in plain text and upgrade; refused if the server cannot (port 587)
	Implicit TLSMode = "tls"      // TLS from the first byte (port 465)
	NoTLS    TLSMode = "none"     // plain text: only to a relay on this machine (loopback)
)

// SMTPConfig says where and how emails are submitted.
type SMTPConfig struct {
	Addr     string // host:port of the submission server
	From     string // the sender address, in the envelope and the From header
	FromName string // the sender's display name; "tradeassure" when empty
	User     string // with Password, authenticate with PLAIN (only over TLS or loopback)
	Password string
	TLS      TLSMode     // StartTLS when empty
	TLSConf  *tls.Config // nil: verify the server's certificate for its host name
}

// SMTP submits emails to one server. Each Send is one connection: notifications are few, and
// a fresh connection fails alone.
type SMTP struct {
	cfg  SMTPConfig
	host string
	from mail.Address
}

// NewSMTP checks cfg and returns a sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: address %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, fmt.Errorf("smtp: sender %q: want a plain address like notifications@example.com", cfg.From)
	}
	from.Name = cfg.FromName
	if from.Name == "" {
		from.Name = "tradeassure"
	}
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	switch cfg.TLS {
	case StartTLS, Implicit:
	case NoTLS:
		if !loopback(host) {
			return nil, fmt.Errorf("smtp: plain text only to a relay on this machine, not %q: use starttls or tls", host)
		}
	default:
		return nil, fmt.Errorf("smtp: TLS mode %q: want starttls, tls or none", cfg.TLS)
	}
	if (cfg.User == "") != (cfg.Password == "") {
		return nil, errors.New("smtp: give both a user and a password, or neither")
	}
	return &SMTP{cfg: cfg, host: host, from: *from}, nil
}

// From is the sender.
func (s *SMTP) From() mail.Address { return s.from }

// String describes the server for the log, without the password.
func (s *SMTP) String() string {
	auth := "no auth"
	if s.cfg.User != "" {
		auth = "auth as " + s.cfg.User
	}
	return fmt.Sprintf("%s (%s, %s) from %s", s.cfg.Addr, s.cfg.TLS, auth, s.from.Address)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send submits msg for one recipient. An error means the server did not accept it; the
// caller retries later.
func (s *SMTP) Send(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) // I/O timeouts, not business time: the wall clock is right here
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // shutting down ends the attempt
	defer stop()
	tlsConf := s.cfg.TLSConf
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	var c *smtp.Client
	switch s.cfg.TLS {
	case Implicit:
		c = smtp.NewClient(tls.Client(conn, tlsConf))
	case StartTLS:
		if c, err = smtp.NewClientStartTLS(conn, tlsConf); err != nil {
			conn.Close()
			return fmt.Errorf("starttls: %w", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = SendTimeout, SendTimeout
	if s.cfg.User != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.User, s.cfg.Password)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.SendMail(s.from.Address, []string{to}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	_ = c.Quit() // accepted already: a failed QUIT does not unsend it
	return nil
}
