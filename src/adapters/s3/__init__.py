"""Objects in an S3-compatible store (AWS S3, MinIO, R2 …) through boto3."""
