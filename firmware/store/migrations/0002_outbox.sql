CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`target` text NOT NULL,
	`event_id` integer,
	`created_at` integer NOT NULL,
	`payload` text NOT NULL,
	`attachment` blob,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_attempt_at` integer,
	`last_error` text,
	`sent_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_queue` ON `outbox` (`target`,`id`) WHERE status in ('pending', 'failed-retrying');--> statement-breakpoint
CREATE INDEX `outbox_target` ON `outbox` (`target`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_status` ON `outbox` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_event` ON `outbox` (`event_id`);