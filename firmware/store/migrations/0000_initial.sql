CREATE TABLE `audit` (
	`id` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit` (`at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY NOT NULL,
	`plate` text NOT NULL,
	`plate_raw` text NOT NULL,
	`camera_id` text NOT NULL,
	`lane_id` text NOT NULL,
	`protocol` text NOT NULL,
	`confidence` real,
	`direction` text,
	`decision` text NOT NULL,
	`reason` text NOT NULL,
	`list_id` integer,
	`list_name` text,
	`list_kind` text,
	`entry_id` integer,
	`explanation` text NOT NULL,
	`camera_time_raw` text,
	`camera_time` integer,
	`received_at` integer NOT NULL,
	`relay_at` integer,
	`latency_ms` real,
	`extras` text
);
--> statement-breakpoint
CREATE INDEX `events_received_at` ON `events` (`received_at`);--> statement-breakpoint
CREATE TABLE `list_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`list_id` integer NOT NULL,
	`plate` text NOT NULL,
	`plate_raw` text NOT NULL,
	`skeleton` text NOT NULL,
	`skeleton_reversed` text NOT NULL,
	`skeleton_ends` text NOT NULL,
	`description` text,
	`valid_from` integer,
	`valid_to` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`list_id`) REFERENCES `lists`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `list_entries_list_plate` ON `list_entries` (`list_id`,`plate`);--> statement-breakpoint
CREATE INDEX `list_entries_plate` ON `list_entries` (`plate`);--> statement-breakpoint
CREATE INDEX `list_entries_skeleton` ON `list_entries` (`skeleton`,`list_id`,`plate`);--> statement-breakpoint
CREATE INDEX `list_entries_skeleton_reversed` ON `list_entries` (`skeleton_reversed`,`list_id`,`plate`);--> statement-breakpoint
CREATE INDEX `list_entries_skeleton_ends` ON `list_entries` (`skeleton_ends`,`list_id`,`plate`);--> statement-breakpoint
CREATE TABLE `lists` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`description` text,
	`max_distance` real DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lists_name_unique` ON `lists` (`name`);