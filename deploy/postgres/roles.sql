-- Roles and database for arrs, run once by an administrator (a superuser,
-- or a managed service's admin role) before the first migration.
--
-- arrs_owner owns the schema: `arrsd migrate` connects as it. arrs_app is
-- what the arrsd replicas connect as; grants.sql gives it the rows it
-- works on and no more. The passwords here are compose.yaml's, for
-- development only: set real ones (or use IAM/certificate authentication).
CREATE ROLE arrs_owner LOGIN PASSWORD 'arrs_owner';
CREATE ROLE arrs_app LOGIN PASSWORD 'arrs_app';
CREATE DATABASE arrs OWNER arrs_owner;

\connect arrs

-- The only extension the migrations use: the exclusion constraint that
-- stops one person holding two posts in a role on the same day
-- (migrations/00004_workforce.sql). It is a trusted extension, so the
-- database owner could create it too; creating it here means the migration
-- role needs no extension rights on a managed service that restricts them.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- arrs_owner owns schema public (PostgreSQL 15 and later give it to the
-- database owner and let no one else create in it). arrs_app may use it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO arrs_app;
