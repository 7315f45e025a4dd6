variable "project_id" {
  description = "Google Cloud project of the production environment."
  type        = string
}

variable "region" {
  description = "Region of the production environment."
  type        = string
  default     = "europe-west1"
}

variable "bucket_name" {
  description = "GCS bucket for content assets."
  type        = string
  default     = "marquee-production-assets"
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API (VPN, CI egress)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []
}
