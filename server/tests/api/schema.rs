//! The SQLite and PostgreSQL migrations are written twice, once per
//! dialect: both must build the same schema. Each engine's catalog is read
//! back as a set of facts (tables, columns and whether they take NULL,
//! primary keys, unique and plain indexes, foreign keys with their delete
//! rule, how many CHECK constraints each table has), modulo types, and the
//! two sets must be equal.
//!
//! It needs both engines at once, so it runs in the PostgreSQL pass of
//! `scripts/test.sh` and fails when no PostgreSQL server is configured.

use crate::support::{TestDatabase, POSTGRES_ENV};
use sqlx::{Connection, Row};
use std::collections::BTreeSet;

type Facts = BTreeSet<String>;

/// SQLite's foreign key `id`: target table, columns, target columns, delete rule.
type ForeignKey = (i64, String, Vec<String>, Vec<String>, String);

#[tokio::test]
async fn both_engines_migrate_to_the_same_schema() {
    assert!(std::env::var(POSTGRES_ENV).is_ok(), "this test compares with PostgreSQL: set {POSTGRES_ENV}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    app::store::Store::open(&sqlite_url).await.expect("migrating SQLite");
    let database = TestDatabase::fresh().await;
    let postgres_url = database.url.clone().expect("a PostgreSQL database");
    app::store::Store::open(&postgres_url).await.expect("migrating PostgreSQL");

    let sqlite = sqlite_facts(&sqlite_url).await;
    let postgres = postgres_facts(&postgres_url).await;
    assert!(sqlite.contains("column messages.body not null"), "the catalog was read: {sqlite:#?}");
    let only_sqlite: Vec<&String> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<&String> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations differ\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
}

/// The full-text index of messages, whatever the engine makes of it.
const SEARCH: &str = "full-text search messages.body";

fn column(table: &str, name: &str, not_null: bool) -> String {
    format!("column {table}.{name} {}", if not_null { "not null" } else { "null" })
}

fn index(table: &str, columns: &[String], unique: bool, partial: bool) -> String {
    let kind = if unique { "unique" } else { "index" };
    let partial = if partial { " (partial)" } else { "" };
    format!("{kind} {table} ({}){partial}", columns.join(", "))
}

fn foreign_key(table: &str, columns: &[String], target: &str, to: &[String], on_delete: &str) -> String {
    format!(
        "foreign key {table} ({}) -> {target} ({}) on delete {on_delete}",
        columns.join(", "),
        to.join(", ")
    )
}

async fn sqlite_facts(url: &str) -> Facts {
    let mut db = sqlx::SqliteConnection::connect(url).await.expect("opening the SQLite database");
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut db)
    .await
    .expect("listing tables");
    let mut facts = Facts::new();
    for (table, sql) in tables {
        // The FTS5 index and its shadow tables: one fact, as PostgreSQL's
        // GIN index of the same column.
        if table == "message_search" || table.starts_with("message_search_") {
            facts.insert(SEARCH.to_owned());
            continue;
        }
        facts.insert(format!("table {table}"));
        facts.insert(format!("checks {table}: {}", sql.to_uppercase().matches("CHECK (").count()));
        let columns = sqlx::query(r#"SELECT name, "notnull", pk FROM pragma_table_info(?1) ORDER BY pk"#)
            .bind(&table)
            .fetch_all(&mut db)
            .await
            .expect("listing columns");
        let mut key = Vec::new();
        for row in columns {
            let (name, not_null, pk): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            // A primary key column takes no NULL (SQLite's catalog does not
            // say so for an INTEGER PRIMARY KEY).
            facts.insert(column(&table, &name, not_null != 0 || pk != 0));
            if pk != 0 {
                key.push(name);
            }
        }
        facts.insert(format!("primary key {table} ({})", key.join(", ")));
        let indexes = sqlx::query(r#"SELECT name, "unique", origin, partial FROM pragma_index_list(?1)"#)
            .bind(&table)
            .fetch_all(&mut db)
            .await
            .expect("listing indexes");
        for row in indexes {
            let (name, unique, origin, partial): (String, i64, String, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if origin == "pk" {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&mut db)
                    .await
                    .expect("listing an index's columns");
            facts.insert(index(&table, &columns, unique != 0, partial != 0));
        }
        let keys = sqlx::query(
            r#"SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#,
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .expect("listing foreign keys");
        let mut grouped: Vec<ForeignKey> = Vec::new();
        for row in keys {
            let (id, target, from, to, on_delete): (i64, String, String, String, String) =
                (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
            match grouped.last_mut() {
                Some(last) if last.0 == id => {
                    last.2.push(from);
                    last.3.push(to);
                }
                _ => grouped.push((id, target, vec![from], vec![to], on_delete.to_lowercase())),
            }
        }
        for (_, target, from, to, on_delete) in grouped {
            facts.insert(foreign_key(&table, &from, &target, &to, &on_delete));
        }
    }
    facts
}

async fn postgres_facts(url: &str) -> Facts {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connecting to PostgreSQL");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut db)
    .await
    .expect("listing tables");
    let mut facts = Facts::new();
    for table in tables {
        facts.insert(format!("table {table}"));
        let checks: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid = $1::text::regclass",
        )
        .bind(&table)
        .fetch_one(&mut db)
        .await
        .expect("counting checks");
        facts.insert(format!("checks {table}: {checks}"));
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, is_nullable::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .expect("listing columns");
        for (name, nullable) in columns {
            facts.insert(column(&table, &name, nullable == "NO"));
        }
        let indexes = sqlx::query(
            "SELECT i.indisunique, i.indisprimary, i.indpred IS NOT NULL, i.indexrelid::regclass::text,
                    array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
             FROM pg_index i WHERE i.indrelid = $1::text::regclass",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .expect("listing indexes");
        for row in indexes {
            let (unique, primary, partial, name, columns): (bool, bool, bool, String, Vec<String>) =
                (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
            if name == "messages_search" {
                facts.insert(SEARCH.to_owned());
            } else if primary {
                facts.insert(format!("primary key {table} ({})", columns.join(", ")));
            } else {
                facts.insert(index(&table, &columns, unique, partial));
            }
        }
        let keys = sqlx::query(
            "SELECT c.confrelid::regclass::text,
                    array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
                    array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
                    CASE c.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null'
                         WHEN 'd' THEN 'set default' WHEN 'r' THEN 'restrict' ELSE 'no action' END
             FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .expect("listing foreign keys");
        for row in keys {
            let (target, from, to, on_delete): (String, Vec<String>, Vec<String>, String) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            facts.insert(foreign_key(&table, &from, &target, &to, &on_delete));
        }
    }
    facts
}
