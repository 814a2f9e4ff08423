import GRDB

/// The run store's schema, one migration per version; a store opened by a newer Sluice is
/// migrated in place (under `MigrationLock`), never rewritten. `StoreSchema.postgres` holds the
/// same versions, by the same names, for PostgreSQL (`StoreSchemaTests` compares the two).
enum StoreSchema {
    static var sqlite: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("repository", .text).notNull()
                t.column("ref", .text)
                t.column("commit", .text).notNull()
                t.column("baseCommit", .text)
                t.column("trigger", .text).notNull()
                t.column("status", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("startedAt", .double)
                t.column("finishedAt", .double)
                t.column("retryOf", .integer).references("runs")
                t.column("message", .text)
            }
            try db.create(index: "runs_by_status", on: "runs", columns: ["status"])
            try db.create(table: "stage_results") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("status", .text).notNull()
                t.column("decision", .text).notNull()
                t.column("reasons", .text).notNull()
                t.column("cacheKey", .text).notNull()
                t.column("cacheHit", .boolean).notNull()
                t.column("exitCode", .integer)
                t.column("startedAt", .double)
                t.column("finishedAt", .double)
                t.column("logPath", .text)
                t.column("processGroup", .integer)
                t.column("message", .text)
                t.primaryKey(["runId", "stage"])
            }
            try db.create(index: "stage_results_by_cache_key", on: "stage_results", columns: ["cacheKey", "status"])
            try db.create(table: "artifacts") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("path", .text).notNull()
                t.column("digest", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("cacheKey", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("lineage", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.primaryKey(["runId", "stage", "path"])
            }
            try db.create(table: "reports") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.column("content", .text).notNull()
                t.primaryKey(["runId", "stage", "kind"])
            }
        }
        m.registerMigration("v2: model registry") { db in
            try db.create(table: "model_versions") { t in
                t.column("model", .text).notNull()
                t.column("version", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("runId", .integer)
                t.column("metrics", .text).notNull()
                t.column("datasetVersions", .text).notNull()
                t.column("artifactDigest", .text)
                t.column("createdAt", .double).notNull()
                t.primaryKey(["model", "version"])
            }
            try db.create(table: "promotions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("model", .text).notNull()
                t.column("version", .text).notNull()
                t.column("action", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("runId", .integer)
                t.column("previousVersion", .text)
                t.column("actor", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("createdAt", .double).notNull()
            }
            // The promotion log is append-only: SQLite itself refuses rewrites.
            try db.execute(sql: """
                CREATE TRIGGER promotions_append_only_update BEFORE UPDATE ON promotions
                BEGIN SELECT RAISE(ABORT, 'the promotion log is append-only'); END;
                CREATE TRIGGER promotions_append_only_delete BEFORE DELETE ON promotions
                BEGIN SELECT RAISE(ABORT, 'the promotion log is append-only'); END;
                """)
        }
        m.registerMigration("v3: deploy inventory") { db in
            // What Sluice applied to each Kubernetes environment: the only objects it may prune.
            try db.create(table: "inventory") { t in
                t.column("environment", .text).notNull()
                t.column("apiVersion", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("namespace", .text).notNull()
                t.column("name", .text).notNull()
                t.primaryKey(["environment", "apiVersion", "kind", "namespace", "name"])
            }
        }
        m.registerMigration("v4: verdicts, conditions, deployed versions") { db in
            try db.alter(table: "runs") { t in t.add(column: "verdict", .text) }
            // Named conditions of each repository ("" environment) and environment: what the
            // controller last observed, with the time the status last changed.
            try db.create(table: "conditions") { t in
                t.column("repository", .text).notNull()
                t.column("environment", .text).notNull()
                t.column("type", .text).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("message", .text).notNull()
                t.column("transitionAt", .double).notNull()
                t.primaryKey(["repository", "environment", "type"])
            }
            // The version each environment was last deployed with (written after the deploy).
            try db.create(table: "deployed_versions") { t in
                t.column("model", .text).notNull()
                t.column("environment", .text).notNull()
                t.column("version", .text).notNull()
                t.column("deployedAt", .double).notNull()
                t.primaryKey(["model", "environment"])
            }
        }
        m.registerMigration("v5: cache scopes, merge-request approvals") { db in
            // Which runs may restore a cached result (see CacheScope). Runs before this version
            // watched only the production branch and merge requests: those are told apart by ref.
            try db.alter(table: "runs") { t in t.add(column: "cacheScope", .text).notNull().defaults(to: "production") }
            try db.execute(sql: """
                UPDATE runs SET cacheScope = 'merge-request/' || substr(ref, 11, length(ref) - 15)
                WHERE ref GLOB 'refs/pull/[0-9]*/head';
                UPDATE runs SET cacheScope = 'merge-request/' || substr(ref, 21, length(ref) - 25)
                WHERE ref GLOB 'refs/merge-requests/[0-9]*/head';
                """)
            try db.create(index: "runs_by_repository_scope", on: "runs", columns: ["repository", "cacheScope"])
            // The run whose result a cached stage restored (shown as where the cache hit came from).
            try db.alter(table: "stage_results") { t in t.add(column: "cachedFrom", .integer) }
            // Approvals of a merge request's head commit from a fork (one commit: a new push needs a new one).
            try db.create(table: "approvals") { t in
                t.column("repository", .text).notNull()
                t.column("ref", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("approvedBy", .text).notNull()
                t.column("approvedAt", .double).notNull()
                t.primaryKey(["repository", "ref", "commit"])
            }
        }
        m.registerMigration("v6: inventory per repository and cluster") { db in
            // Keyed by environment alone, two repositories (or clusters) with an environment of
            // the same name pruned each other's objects. The old table is left unread: what it
            // lists is never pruned (an object applied before and dropped from the manifests
            // before the next deploy stays in place; delete it by hand).
            try db.create(table: "deploy_inventory") { t in
                t.column("repository", .text).notNull()
                t.column("cluster", .text).notNull()
                t.column("environment", .text).notNull()
                t.column("apiVersion", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("namespace", .text).notNull()
                t.column("name", .text).notNull()
                t.primaryKey(["repository", "cluster", "environment", "apiVersion", "kind", "namespace", "name"])
            }
        }
        m.registerMigration("v7: what Sluice last applied per object") { db in
            // The applied body's hash and the resourceVersion the server gave it: an object whose
            // both are unchanged needs no dry run to know it is unchanged.
            try db.alter(table: "deploy_inventory") { t in
                t.add(column: "appliedHash", .text)
                t.add(column: "resourceVersion", .text)
            }
        }
        m.registerMigration("v8: the Kubernetes Job of a stage") { db in
            try db.alter(table: "stage_results") { t in t.add(column: "runnerJob", .text) }
        }
        m.registerMigration("v9: the environment chain's steps") { db in
            try db.create(table: "environment_steps") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("model", .text).notNull()
                t.column("version", .text).notNull()
                t.column("environment", .text).notNull()
                t.column("state", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("reason", .text)
                t.column("runId", .integer)
                t.column("createdAt", .double).notNull()
            }
            try db.create(index: "environment_steps_by_model", on: "environment_steps", columns: ["model", "version"])
        }
        m.registerMigration("v10: registry moves the promotion log decided") { db in
            try db.create(table: "registry_moves") { t in
                t.primaryKey("model", .text)
                t.column("attempts", .integer).notNull()
                t.column("lastError", .text)
                t.column("updatedAt", .double).notNull()
            }
        }
        m.registerMigration("v11: notification outbox") { db in
            // Events, written in the transaction of their cause; the sender routes each to the
            // configured providers (one delivery each) and records every attempt.
            try db.create(table: "notification_events") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("repository", .text).notNull()
                t.column("body", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("routed", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "notification_events_unrouted", on: "notification_events", columns: ["routed", "createdAt"])
            try db.create(table: "notification_deliveries") { t in
                t.column("eventId", .text).notNull()
                t.column("provider", .text).notNull()
                t.column("state", .text).notNull()
                t.column("fingerprint", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("nextAttemptAt", .double).notNull()
                t.column("lastStatus", .integer)
                t.column("lastError", .text)
                t.column("createdAt", .double).notNull()
                t.column("finishedAt", .double)
                t.primaryKey(["eventId", "provider"])
            }
            try db.create(index: "notification_deliveries_due", on: "notification_deliveries", columns: ["state", "nextAttemptAt"])
            try db.create(index: "notification_deliveries_fingerprint", on: "notification_deliveries", columns: ["provider", "fingerprint", "createdAt"])
        }
        m.registerMigration("v12: the image a Kubernetes stage ran in") { db in
            try db.alter(table: "stage_results") { t in t.add(column: "image", .text) }
        }
        m.registerMigration("v13: merge-request previews") { db in
            try db.create(table: "previews") { t in
                t.column("repository", .text).notNull()
                t.column("number", .integer).notNull()
                t.column("ref", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("runId", .integer)
                t.column("target", .text).notNull()
                t.column("place", .text).notNull()
                t.column("context", .text)
                t.column("environment", .text).notNull()
                t.column("state", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("expiresAt", .double).notNull()
                t.primaryKey(["repository", "number"])
            }
        }
        m.registerMigration("v14: processed refs") { db in
            // The last commit processed on each tracked ref, so that any replica on the same
            // store knows what is new (before: a JSON file per repository in the state folder).
            try db.create(table: "processed_refs") { t in
                t.column("repository", .text).notNull()
                t.column("ref", .text).notNull()
                t.column("commit", .text).notNull()
                t.column("processedAt", .double).notNull()
                t.primaryKey(["repository", "ref"])
            }
        }
        m.registerMigration("v15: leadership terms") { db in
            // The fencing token of replicas on one store: each start of leading a Lease is a new
            // term; an act on the outside is refused to a replica whose term is not the last.
            try db.create(table: "leadership") { t in
                t.primaryKey("lease", .text)
                t.column("term", .integer).notNull()
                t.column("holder", .text).notNull()
                t.column("startedAt", .double).notNull()
            }
        }
        m.registerMigration("v16: archived stage logs") { db in
            try db.alter(table: "stage_results") { t in t.add(column: "logDigest", .text) }
        }
        return m
    }
}
