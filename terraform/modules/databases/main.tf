# One database and one login role per service, created over SQL by the administrator the
# provider connects as (Cloud SQL: the built-in marquee_admin; DigitalOcean: doadmin).
#
# Least privilege:
# - Each role owns its database, so it owns that database's public schema
#   (pg_database_owner, PostgreSQL 15+) and its migrations may CREATE there — new users
#   no longer get CREATE on public by default.
# - CONNECT (and TEMP) on every service database is revoked from PUBLIC: a service's
#   credentials open its own database only.
# - The roles are plain LOGIN roles: no SUPERUSER, CREATEDB, CREATEROLE or REPLICATION,
#   and — unlike users made through the Cloud SQL API (google_sql_user), which all join
#   cloudsqlsuperuser — no membership in any role.

resource "random_password" "service" {
  for_each = toset(var.services)

  length  = 40
  special = false
}

resource "postgresql_role" "service" {
  for_each = toset(var.services)

  name             = each.key
  login            = true
  password         = random_password.service[each.key].result
  superuser        = false
  create_database  = false
  create_role      = false
  inherit          = true
  replication      = false
  connection_limit = var.connection_limit
}

resource "postgresql_database" "service" {
  for_each = toset(var.services)

  name              = each.key
  owner             = postgresql_role.service[each.key].name
  template          = "template0"
  encoding          = "UTF8"
  allow_connections = true
}

# Empty privileges revoke what PUBLIC holds on the database (CONNECT, TEMPORARY).
resource "postgresql_grant" "revoke_public" {
  for_each = toset(var.services)

  database    = postgresql_database.service[each.key].name
  role        = "public"
  object_type = "database"
  privileges  = []
}

resource "postgresql_extension" "service" {
  for_each = { for pair in flatten([for db, exts in var.extensions : [for e in exts : { db = db, ext = e }] if contains(var.services, db)]) : "${pair.db}/${pair.ext}" => pair }

  name     = each.value.ext
  database = postgresql_database.service[each.value.db].name
}
