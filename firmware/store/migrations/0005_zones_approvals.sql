CREATE TABLE `approval_requests` (
	`event_id` integer PRIMARY KEY NOT NULL,
	`lane` text NOT NULL,
	`plate` text NOT NULL,
	`reason` text NOT NULL,
	`asked_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `zones` (
	`name` text PRIMARY KEY NOT NULL,
	`config` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
