"""What the journeys' views share, and the only view code one journey may import from outside its own
package: form fields (`fields`), the cases' and incidents' list filters (`list_filters`), the
confirmation step (`confirm`), the error pages (`errors`), helpers of the record pages
(`record_pages`), the person search (`person_search`), sections of a person's page
(`person_page`), downloads (`downloads`), the measures' period (`periods`) and figure names
(`figure_labels`)."""
