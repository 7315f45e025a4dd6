variable "services" {
  description = "One database, owned by a login role of the same name, per service that owns data."
  type        = list(string)
  default     = ["auth", "content", "tagging", "billing", "campaign"]

  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z][a-z0-9_]{1,30}$", s))])
    error_message = "each service name must be 2-31 lowercase letters, digits or underscores, starting with a letter (it names a role and a database)."
  }
}

variable "host" {
  description = "Host name or IP the services connect to (private address of the managed PostgreSQL)."
  type        = string

  validation {
    condition     = length(var.host) > 0
    error_message = "host must not be empty."
  }
}

variable "port" {
  description = "Port the services connect to (5432 on Cloud SQL, 25060 on DigitalOcean)."
  type        = number

  validation {
    condition     = var.port >= 1 && var.port <= 65535
    error_message = "port must be 1-65535."
  }
}

variable "connection_limit" {
  description = "Connections each service role may hold (all replicas and the migration job together); -1 means no limit."
  type        = number
  default     = 100

  validation {
    condition     = var.connection_limit == -1 || (var.connection_limit >= 5 && var.connection_limit <= 10000)
    error_message = "connection_limit must be -1 or 5-10000."
  }
}

variable "extensions" {
  description = "Extensions created by the administrator in a service's database before the service migrates (tagging uses pgvector when present)."
  type        = map(list(string))
  default     = { tagging = ["vector"] }

  validation {
    condition     = alltrue(flatten([for db, exts in var.extensions : [for e in exts : can(regex("^[a-z][a-z0-9_]*$", e))]]))
    error_message = "extension names must be lowercase identifiers."
  }
}
