CREATE TABLE `holiday_calendars` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `holiday_calendars_name_unique` ON `holiday_calendars` (`name`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedules_name_unique` ON `schedules` (`name`);--> statement-breakpoint
ALTER TABLE `list_entries` ADD `schedule` text;--> statement-breakpoint
CREATE INDEX `list_entries_schedule` ON `list_entries` (`schedule`) WHERE schedule is not null;--> statement-breakpoint
ALTER TABLE `lists` ADD `schedule` text;