"""The Limits resource's body (REST API Developer Guide, "Limits" / "List Org Limits").

Every entry is `{"Max": N, "Remaining": N}`, keyed by the names the guide's example uses.
Only `DailyApiRequests` moves: it counts the emulator's authenticated calls against
`DAILY_API_LIMIT`, the same numbers as the `Sforce-Limit-Info` header. The other maxima
are those of the guide's example (a Developer Edition org); whether a given org lists a
key depends on its features, so clients must not require any key but the common ones.
"""

from __future__ import annotations

from .state import DAILY_API_LIMIT

_STATIC_MAXIMA = {
    "ActiveScratchOrgs": 3,
    "AnalyticsExternalDataSizeMB": 40960,
    "ConcurrentAsyncGetReportInstances": 200,
    "ConcurrentSyncReportRuns": 20,
    "DailyAnalyticsDataflowJobExecutions": 60,
    "DailyAnalyticsUploadedFilesSizeMB": 51200,
    "DailyAsyncApexExecutions": 250000,
    "DailyAsyncApexTests": 500,
    "DailyBulkApiBatches": 15000,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DailyBulkV2QueryJobs": 10000,
    "DailyDurableGenericStreamingApiEvents": 10000,
    "DailyDurableStreamingApiEvents": 10000,
    "DailyGenericStreamingApiEvents": 10000,
    "DailyScratchOrgs": 6,
    "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 10000,
    "DailyWorkflowEmails": 390,
    "DataStorageMB": 5,
    "DurableStreamingApiConcurrentClients": 20,
    "FileStorageMB": 20,
    "HourlyAsyncReportRuns": 1200,
    "HourlyDashboardRefreshes": 200,
    "HourlyDashboardResults": 5000,
    "HourlyDashboardStatuses": 999999999,
    "HourlyLongTermIdMapping": 100000,
    "HourlyODataCallout": 10000,
    "HourlyPublishedPlatformEvents": 50000,
    "HourlyPublishedStandardVolumePlatformEvents": 1000,
    "HourlyShortTermIdMapping": 100000,
    "HourlySyncReportRuns": 500,
    "HourlyTimeBasedWorkflow": 50,
    "MassEmail": 10,
    "MonthlyPlatformEventsUsageEntitlement": 0,
    "Package2VersionCreates": 6,
    "Package2VersionCreatesWithoutValidation": 500,
    "PermissionTypes": 30,
    "SingleEmail": 15,
    "StreamingApiConcurrentClients": 20,
}


def org_limits(api_usage: int) -> dict[str, dict[str, int]]:
    """The body of `GET /limits` after `api_usage` authenticated calls."""
    body = {name: {"Max": top, "Remaining": top} for name, top in _STATIC_MAXIMA.items()}
    remaining = max(DAILY_API_LIMIT - api_usage, 0)
    body["DailyApiRequests"] = {"Max": DAILY_API_LIMIT, "Remaining": remaining}
    return dict(sorted(body.items()))
