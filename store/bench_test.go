package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// benchPoolConns sizes the PostgreSQL pool of the benchmarks: enough for the parallel variant.
const benchPoolConns = "pool_max_conns=16"

// benchSeq makes transfer IDs unique across the runs of a benchmark on one database.
var benchSeq atomic.Int64

// BenchmarkPostTransfer measures one Write with one two-entry PostTransfer (rail clearing →
// escrow, so no balance constraint trips): the commit path of every money movement.
func BenchmarkPostTransfer(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchPost(b, openSQLiteT(b)) })
	b.Run("postgres", func(b *testing.B) { benchPost(b, openPostgresT(b, benchPoolConns)) })
}

func benchPost(b *testing.B, db *DB) {
	from, to := trade.RailAccount(payment.TTWire, usd), escrowOf("ord_bench")
	for b.Loop() {
		if err := postOne(db, from, to); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkPostTransferParallel runs the same from GOMAXPROCS×4 goroutines. "hot": every
// transfer moves the same two balance rows (like one rail feeding one escrow); "spread": each
// goroutine has its own pair, so PostgreSQL can commit them concurrently. SQLite serializes
// writes either way.
func BenchmarkPostTransferParallel(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, spread := range []bool{false, true} {
			name := dialect + "/hot"
			if spread {
				name = dialect + "/spread"
			}
			b.Run(name, func(b *testing.B) {
				var db *DB
				if dialect == "sqlite" {
					db = openSQLiteT(b)
				} else {
					db = openPostgresT(b, benchPoolConns)
				}
				var worker atomic.Int64
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := "0"
					if spread {
						w = fmt.Sprint(worker.Add(1))
					}
					from, to := trade.RailAccount(payment.Method("rail"+w), usd), escrowOf("ord_bench_"+w)
					for pb.Next() {
						if err := postOne(db, from, to); err != nil {
							b.Error(err) // not Fatal: this is not the benchmark's goroutine
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}

func postOne(db *DB, from, to ledger.Account) error {
	id := fmt.Sprintf("tr_bench_%d", benchSeq.Add(1))
	tr, err := ledger.NewTransfer(id, "payment_received", usd, to.Owner, t0).Post(from, to, 1).Build()
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx escrow.Tx) error { return tx.PostTransfer(ctx, tr) })
}

// BenchmarkSQLiteRawCommit is the baseline for PostTransfer on SQLite: the single-writer commit
// rate of the same driver with the same connection settings as the store's writer (WAL,
// synchronous=FULL, BEGIN IMMEDIATE through _txlock; see sqliteWriterParams), on a file in the
// same kind of temporary directory as BenchmarkPostTransfer/sqlite. One connection; each
// iteration is BEGIN IMMEDIATE; INSERT one small row; COMMIT.
func BenchmarkSQLiteRawCommit(b *testing.B) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+sqliteWriterParams)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE raw (id INTEGER PRIMARY KEY, v INTEGER NOT NULL) STRICT`); err != nil {
		b.Fatal(err)
	}
	var v int64
	for b.Loop() {
		v++
		tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock=immediate)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO raw (v) VALUES ($1)`, v); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}
