"""The example contracts that ``aiready init`` and ``aiready demo`` write (ODCS v3.1)."""

PAYMENTS = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:aiready:{workspace}:payments
name: payments
version: 1.0.0
status: active
domain: finance
description:
  purpose: Card and bank payments as they happen (operational event data).
team:
  name: payments-platform
  members:
    - username: payments-owner@example.com
      role: owner
schema:
  - name: payments
    physicalType: table
    description: One row per payment attempt.
    properties:
      - name: payment_id
        logicalType: integer
        physicalType: BIGINT
        primaryKey: true
        description: Unique id of the payment attempt.
      - name: customer_id
        logicalType: string
        required: true
        logicalTypeOptions:
          pattern: '^C[0-9]{{6}}$'
      - name: amount
        logicalType: number
        physicalType: DECIMAL(12,2)
        required: true
        description: Amount in the payment currency.
        logicalTypeOptions:
          minimum: 0
          maximum: 100000
      - name: currency
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: ['EUR', 'USD', 'GBP', 'CHF']
            mustBe: 0
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: ['settled', 'pending', 'failed', 'refunded']
            mustBeLessThan: 5
            unit: percent
      - name: paid_at
        logicalType: timestamp
        required: true
      - name: card_country
        logicalType: string
        description: ISO country of the card; unknown values are tolerated but counted.
        quality:
          - metric: missingValues
            arguments:
              missingValues: [null, '', 'N/A', '??']
            mustBe: 0
            severity: warning
    quality:
      - type: sql
        name: refund_has_amount
        description: a refunded payment must have a positive amount
        query: SELECT COUNT(*) FROM {{object}} WHERE status = 'refunded' AND amount = 0
        mustBe: 0
      - metric: rowCount
        mustBeGreaterThan: 0
slaProperties:
  - property: latency
    value: 1
    unit: d
    element: payments.paid_at
"""

CUSTOMERS = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:aiready:{workspace}:customers
name: customers
version: 1.0.0
status: active
domain: crm
description:
  purpose: Customer master data, reconciled (strategic reference data).
team:
  name: crm-data
  members:
    - username: crm-steward@example.com
      role: owner
schema:
  - name: customers
    physicalType: table
    properties:
      - name: customer_id
        logicalType: string
        primaryKey: true
        logicalTypeOptions:
          pattern: '^C[0-9]{{6}}$'
      - name: name
        logicalType: string
        required: true
        classification: confidential
        tags: ['pii', 'pii:name']
      - name: email
        logicalType: string
        classification: confidential
        tags: ['pii', 'pii:email']
        logicalTypeOptions:
          pattern: '^[^@ ]+@[^@ ]+\\.[a-z]{{2,}}$'
      - name: segment
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: ['retail', 'smb', 'enterprise']
            mustBe: 0
      - name: country
        logicalType: string
        logicalTypeOptions:
          minLength: 2
          maxLength: 2
      - name: signup_date
        logicalType: date
      - name: vip
        logicalType: boolean
customProperties:
  - property: allowedPurposes
    value: [churn, analytics, support]
"""

CUSTOMER_VALUE = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:aiready:{workspace}:customer_value
name: customer_value
version: 1.0.0
status: active
domain: crm
description:
  purpose: Decision-grade customer value, the input of the churn-risk scoring use case.
team:
  name: crm-data
  members:
    - username: crm-steward@example.com
      role: owner
schema:
  - name: customer_value
    physicalType: table
    properties:
      - name: customer_id
        logicalType: string
        primaryKey: true
      - name: segment
        logicalType: string
        required: true
      - name: email
        logicalType: string
        classification: confidential
        tags: ['pii', 'pii:email']
      - name: country
        logicalType: string
      - name: payments
        logicalType: integer
        logicalTypeOptions:
          minimum: 0
      - name: total_spent
        logicalType: number
        physicalType: DECIMAL(18,2)
        logicalTypeOptions:
          minimum: 0
      - name: refunds
        logicalType: integer
      - name: last_paid_at
        logicalType: timestamp
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
customProperties:
  - property: allowedPurposes
    value: [churn, analytics]
slaProperties:
  - property: latency
    value: 1
    unit: d
    element: customer_value.last_paid_at
  - property: retention
    value: 30
    unit: d
"""

CUSTOMER_VALUE_SQL = """\
-- Decision-grade: strategic customers, operational payments only through aggregation.
SELECT c.customer_id, c.segment, c.email, c.country,
       count(p.payment_id) AS payments,
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'settled'), 0) AS total_spent,
       count(p.payment_id) FILTER (WHERE p.status = 'refunded') AS refunds,
       max(p.paid_at) AS last_paid_at
FROM silver.customers AS c
LEFT JOIN silver.payments AS p ON p.customer_id = c.customer_id
GROUP BY c.customer_id, c.segment, c.email, c.country
"""

PRINCIPALS = """\
# Who may ask: users and services, their groups, and attributes row filters can use.
groups: [analysts, ai-apps, stewards]
users:
  ana: {groups: [analysts], region: DE}
  sam: {groups: [stewards]}
services:
  churn-bot: {groups: [ai-apps]}
"""

POLICIES = """\
// Deny by default: only what a policy permits is allowed, and a forbid always wins.

@id("analysts-query")
permit(principal in Group::"analysts", action == Action::"query", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("churn-bot-scores-churn")
permit(principal == Service::"churn-bot", action in [Action::"query", Action::"train"], resource)
when { context.purpose == "churn" && resource.allowedPurposes.contains("churn") };

@id("no-pii-to-ai")
forbid(principal in Group::"ai-apps", action, resource is Column) when { resource.pii };

@id("stewards-read")
permit(principal in Group::"stewards", action, resource);
"""

ACCESS = """\
# Column masks (redact | hash | partial; unlisted PII is redacted) and row filters (DuckDB SQL).
masks:
  customer_value.email: partial
row_filters:          # a gold model reading a filtered dataset needs its own filter (or a waiver)
  customers: "country = principal.region"
  customer_value: "country = principal.region"
"""
