output "database_urls" {
  description = "postgres:// URL per service (TLS required): MARQUEE_<SERVICE>_DATABASE_URL."
  value = {
    for s in var.services : s => format(
      "postgres://%s:%s@%s:%d/%s?sslmode=require",
      postgresql_role.service[s].name,
      random_password.service[s].result,
      var.host,
      var.port,
      postgresql_database.service[s].name,
    )
  }
  sensitive = true
}

output "roles" {
  description = "The login role (and database) of each service."
  value       = { for s in var.services : s => postgresql_role.service[s].name }
}
