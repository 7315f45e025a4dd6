variable "region" {
  description = "DigitalOcean region of the staging environment."
  type        = string
  default     = "fra1"
}

variable "bucket_name" {
  description = "Spaces bucket for content assets."
  type        = string
  default     = "marquee-staging-assets"
}
